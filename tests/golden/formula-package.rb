class Codex < Formula
  desc "OpenAI's coding agent that runs in your terminal"
  homepage "https://github.com/openai/codex"
  version "1.2.3"
  license "Apache-2.0"

  livecheck do
    url :stable
    regex(/^rust-v?(\d+(?:\.\d+)+)$/i)
    strategy :github_latest
  end

  on_macos do
    on_arm do
      url "https://github.com/openai/codex/releases/download/rust-v1.2.3/codex-package-aarch64-apple-darwin.tar.gz"
      sha256 "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
    end
    on_intel do
      url "https://github.com/openai/codex/releases/download/rust-v1.2.3/codex-package-x86_64-apple-darwin.tar.gz"
      sha256 "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"
    end
  end

  on_linux do
    on_arm do
      url "https://github.com/openai/codex/releases/download/rust-v1.2.3/codex-package-aarch64-unknown-linux-musl.tar.gz"
      sha256 "d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4"
    end
    on_intel do
      url "https://github.com/openai/codex/releases/download/rust-v1.2.3/codex-package-x86_64-unknown-linux-musl.tar.gz"
      sha256 "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3"
    end
  end

  def install
    libexec.install Dir["*"]
    bin.install_symlink libexec/"bin/codex"
    generate_completions_from_executable(bin/"codex", "completion")
  end

  test do
    assert_match "codex-cli #{version}", shell_output("#{bin}/codex --version")
  end
end
