{{ validate_landing_rows(
    source_table='time_entries',
    key='time_entry_id',
    amount='hours_actual * loaded_hourly_cost',
    references=[
        {'column': 'customer_id', 'model': 'base_landing__customers',
         'key': 'customer_id', 'reason': 'unknown_customer'},
        {'column': 'offering_id', 'model': 'base_landing__offerings',
         'key': 'offering_id', 'reason': 'unknown_offering'},
    ],
) }}
