"""What admins are told when `serve` runs on the local demo directory (OFFBOARD_CONSOLE=local)."""

DEMO_CONSOLE = (":test_tube: *Demo console:* this bot offboards the demo directory on its own machine, not your "
                "admin console. Nothing real is changed.")
DEMO_TAG = "Demo console"  # before a title, where there is no room for the line above
