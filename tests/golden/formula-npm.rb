class Codex < Formula
  desc "OpenAI's coding agent that runs in your terminal"
  homepage "https://github.com/openai/codex"
  version "1.2.3"
  license "Apache-2.0"

  livecheck do
    url :homepage
    regex(/^rust-v?(\d+(?:\.\d+)+)$/i)
    strategy :github_latest
  end

  on_macos do
    on_arm do
      url "https://registry.npmjs.org/@openai/codex/-/codex-1.2.3-darwin-arm64.tgz"
      sha256 "1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a"
    end
    on_intel do
      url "https://registry.npmjs.org/@openai/codex/-/codex-1.2.3-darwin-x64.tgz"
      sha256 "2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b"
    end
  end

  on_linux do
    on_arm do
      url "https://registry.npmjs.org/@openai/codex/-/codex-1.2.3-linux-arm64.tgz"
      sha256 "4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d"
    end
    on_intel do
      url "https://registry.npmjs.org/@openai/codex/-/codex-1.2.3-linux-x64.tgz"
      sha256 "3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c"
    end
  end

  def install
    target = if OS.mac?
      Hardware::CPU.arm? ? "aarch64-apple-darwin" : "x86_64-apple-darwin"
    else
      Hardware::CPU.arm? ? "aarch64-unknown-linux-musl" : "x86_64-unknown-linux-musl"
    end
    libexec.install Dir["vendor/#{target}/*"]
    bin.install_symlink libexec/"bin/codex"
    generate_completions_from_executable(bin/"codex", "completion")
  end

  test do
    assert_match "codex-cli #{version}", shell_output("#{bin}/codex --version")
  end
end
