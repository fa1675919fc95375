"""The demo site: a private CA, a bureau, operator keys and provisioned kiosks (simulated)."""
