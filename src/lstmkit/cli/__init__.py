"""The ``lstmkit`` command. May import anything; nothing imports it."""
