from tests.networks.fixtures import (
    only_sandbox_installed,
    rebinding_host,
    rng,
    sandbox,
    sandbox_account,
    sandbox_account_and_channel,
    sandbox_channel,
)

__all__ = [
    "only_sandbox_installed",
    "rebinding_host",
    "rng",
    "sandbox",
    "sandbox_account",
    "sandbox_account_and_channel",
    "sandbox_channel",
]
