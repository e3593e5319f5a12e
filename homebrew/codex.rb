cask "codex" do
  arch arm: "aarch64", intel: "x86_64"
  os macos: "apple-darwin", linux: "unknown-linux-musl"

  version "0.171.0"

  on_macos do
    on_arm do
      sha256 "185e1c789e5fd528390c1a89a6968dca791e9aa3138db830d53afffdc9079ae3"
      url "https://registry.npmjs.org/@openai/codex/-/codex-0.171.0-darwin-arm64.tgz",
          verified: "registry.npmjs.org/@openai/codex/-/"
    end
    on_intel do
      sha256 "05f9cf2fb4a88938df609759b73d8d649d5318a2088e78575888d480d63dd5f0"
      url "https://registry.npmjs.org/@openai/codex/-/codex-0.171.0-darwin-x64.tgz",
          verified: "registry.npmjs.org/@openai/codex/-/"
    end
  end

  on_linux do
    on_arm do
      sha256 "26ae27788c7d962ae64321aba4673f918b99b40c4655246930bf962fa5b81b01"
      url "https://registry.npmjs.org/@openai/codex/-/codex-0.171.0-linux-arm64.tgz",
          verified: "registry.npmjs.org/@openai/codex/-/"
    end
    on_intel do
      sha256 "e13d67afb0533cc6160b5f4140e4ad07e2acd87adbaa081bbf69b82e90cf4e55"
      url "https://registry.npmjs.org/@openai/codex/-/codex-0.171.0-linux-x64.tgz",
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
