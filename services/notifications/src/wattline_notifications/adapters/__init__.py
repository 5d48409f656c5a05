"""SQL of the notifications schema and the senders (SMTP, the SMS log)."""
