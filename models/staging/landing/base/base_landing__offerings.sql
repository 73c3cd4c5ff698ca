{{ validate_landing_rows(
    source_table='offerings',
    key='offering_id',
) }}
