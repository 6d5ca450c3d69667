"""Member side of membership: self-service pages, online payment, receipts and reminders screens."""
