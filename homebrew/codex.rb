cask "codex" do
  arch arm: "aarch64", intel: "x86_64"
  os macos: "apple-darwin", linux: "unknown-linux-musl"

  version "0.169.0"

  on_macos do
    on_arm do
      sha256 "d67d443253294438a21fde15753d7c1174e6a32147d842eb84428479d664c93d"
      url "https://registry.npmjs.org/@openai/codex/-/codex-0.169.0-darwin-arm64.tgz",
          verified: "registry.npmjs.org/@openai/codex/-/"
    end
    on_intel do
      sha256 "99ac403e2fdec6e4a99390ae15362c8aa5f888995c8e9cc1c7f4cf6dacd20ef2"
      url "https://registry.npmjs.org/@openai/codex/-/codex-0.169.0-darwin-x64.tgz",
          verified: "registry.npmjs.org/@openai/codex/-/"
    end
  end

  on_linux do
    on_arm do
      sha256 "c1555c8ad3913e703d736584ff15e98eaeda685bf6eaedc83ae15943badbc1ff"
      url "https://registry.npmjs.org/@openai/codex/-/codex-0.169.0-linux-arm64.tgz",
          verified: "registry.npmjs.org/@openai/codex/-/"
    end
    on_intel do
      sha256 "89801b4b97faba562eb80fe0a833159ac79399be674022f4b1a0ccab1d153faa"
      url "https://registry.npmjs.org/@openai/codex/-/codex-0.169.0-linux-x64.tgz",
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
