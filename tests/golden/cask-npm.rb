cask "codex" do
  arch arm: "aarch64", intel: "x86_64"
  os macos: "apple-darwin", linux: "unknown-linux-musl"

  version "1.2.3"

  on_macos do
    on_arm do
      sha256 "1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a"
      url "https://registry.npmjs.org/@openai/codex/-/codex-1.2.3-darwin-arm64.tgz",
          verified: "registry.npmjs.org/@openai/codex/-/"
    end
    on_intel do
      sha256 "2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b"
      url "https://registry.npmjs.org/@openai/codex/-/codex-1.2.3-darwin-x64.tgz",
          verified: "registry.npmjs.org/@openai/codex/-/"
    end
  end

  on_linux do
    on_arm do
      sha256 "4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d"
      url "https://registry.npmjs.org/@openai/codex/-/codex-1.2.3-linux-arm64.tgz",
          verified: "registry.npmjs.org/@openai/codex/-/"
    end
    on_intel do
      sha256 "3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c"
      url "https://registry.npmjs.org/@openai/codex/-/codex-1.2.3-linux-x64.tgz",
          verified: "registry.npmjs.org/@openai/codex/-/"
    end
  end

  name "Codex"
  desc "OpenAI's coding agent that runs in your terminal"
  homepage "https://github.com/openai/codex"

  livecheck do
    url :homepage
    regex(/^rust-v?(\d+(?:\.\d+)+)$/i)
    strategy :github_latest
  end

  binary "package/vendor/#{arch}-#{os}/bin/codex", target: "codex"

  generate_completions_from_executable "package/vendor/#{arch}-#{os}/bin/codex", "completion", base_name: "codex"

  zap rmdir: "~/.codex"
end
