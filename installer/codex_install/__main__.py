from codex_install.cli import main

if __name__ == "__main__":
    main()
