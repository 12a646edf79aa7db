"""copnet's built-in plugins: registered through the `copnet` entry-point group like any other."""
