"""Further subcommands (validate, sweep) register here."""


def add_commands(sub) -> None:
    return None
