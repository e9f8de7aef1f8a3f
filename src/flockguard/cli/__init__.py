"""The human CLI: argparse, one module per command, rich output (never on the hook path)."""
