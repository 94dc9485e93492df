# Shared fixtures live in their own modules; list them here so every test folder gets them.
pytest_plugins = ["tests.db_fixtures", "tests.fakes.fixtures", "tests.bot_fixtures"]
