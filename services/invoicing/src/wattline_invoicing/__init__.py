"""Invoicing: invoices, credit notes, aconto, payments and ERP export."""
