"""Wattline's notifications: e-mail and SMS to customers from the other services' events."""
