"""`python -m copnet.cli`: the same as the `copnet` command."""

from copnet.cli.root import main

if __name__ == "__main__":
    main()
