"""What differs per engine and is not a dbt macro: state tables, listing and dropping schemas."""
