"""The `copnet` command line.

`root` is the command itself (`copnet up`, `status`, `token`, `seed`, `serve`) and registers the
admin command groups, each in its own module (`orgs`, `communities`, `plugins`, `scheduling`,
`attendance`); `common` is what they share (the gateway client and its options, error reporting,
printing); `run` supervises the processes of `copnet up`.
"""
