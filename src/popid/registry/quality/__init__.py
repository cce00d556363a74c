"""Data-quality engine for "đúng, đủ, sạch, sống" (correct, sufficient, clean, live)."""
