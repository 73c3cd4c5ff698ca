"""customer-portfolio: Dagster code location, landing loader, demo data and scoring models."""
