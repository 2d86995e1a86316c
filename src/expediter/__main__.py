from expediter.cli import main

main()
