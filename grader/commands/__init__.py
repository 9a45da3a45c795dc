"""One module per `grader` subcommand: add_parser(subparsers) and run(args)."""
