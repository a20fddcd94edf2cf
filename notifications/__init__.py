"""Telling people what happened: email to fans over SMTP and signed webhooks to the venue."""
