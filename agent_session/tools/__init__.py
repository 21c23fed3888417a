"""The cab agent's actions and the services behind them."""
