"""Một Cửa Xã desktop client: forms ← store ← sync ← ui/app."""
