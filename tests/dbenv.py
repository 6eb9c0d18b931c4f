"""Where the test PostgreSQL server is (DQGOV_TEST_PG_URL); tests never skip it: CI starts it."""

import os

PG_ADMIN_URL = os.environ.get("DQGOV_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
