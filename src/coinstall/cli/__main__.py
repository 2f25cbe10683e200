from coinstall.cli import main

main()
