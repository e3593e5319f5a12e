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

  depends_on "ripgrep"

  on_macos do
    on_arm do
      url "https://github.com/openai/codex/releases/download/rust-v1.2.3/codex-aarch64-apple-darwin.tar.gz"
      sha256 "e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5"
    end
    on_intel do
      url "https://github.com/openai/codex/releases/download/rust-v1.2.3/codex-x86_64-apple-darwin.tar.gz"
      sha256 "f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6"
    end
  end

  on_linux do
    on_arm do
      url "https://github.com/openai/codex/releases/download/rust-v1.2.3/codex-aarch64-unknown-linux-musl.tar.gz"
      sha256 "1818181818181818181818181818181818181818181818181818181818181818"
    end
    on_intel do
      url "https://github.com/openai/codex/releases/download/rust-v1.2.3/codex-x86_64-unknown-linux-musl.tar.gz"
      sha256 "0707070707070707070707070707070707070707070707070707070707070707"
    end
  end

  def install
    target = if OS.mac?
      Hardware::CPU.arm? ? "aarch64-apple-darwin" : "x86_64-apple-darwin"
    else
      Hardware::CPU.arm? ? "aarch64-unknown-linux-musl" : "x86_64-unknown-linux-musl"
    end
    bin.install "codex-#{target}" => "codex"
    generate_completions_from_executable(bin/"codex", "completion")
  end

  test do
    assert_match "codex-cli #{version}", shell_output("#{bin}/codex --version")
  end
end
