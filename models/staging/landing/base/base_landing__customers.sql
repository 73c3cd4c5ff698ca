{{ validate_landing_rows(
    source_table='customers',
    key='customer_id',
) }}
