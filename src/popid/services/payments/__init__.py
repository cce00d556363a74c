"""Payment gateways for public-service fees: the ``Gateway`` protocol and the built-in sandbox.
The gateway in use is named by ``POPID_PAYMENT_GATEWAY`` (setting or environment; default
``sandbox``); see base.get_gateway."""
