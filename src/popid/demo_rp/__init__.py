"""A small public-service site that logs citizens in through PopID's OpenID Connect provider,
so the whole flow can be seen end to end (issue #3 point 7). Disable with POPID_DEMO_RP=0."""
