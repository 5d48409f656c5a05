"""`python -m wattline_notifications` runs the notifications service."""

from wattline_notifications.bootstrap import build

if __name__ == "__main__":
    build().run()
