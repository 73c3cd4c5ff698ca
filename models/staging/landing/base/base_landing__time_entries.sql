{{ validate_landing_rows(
    source_table='time_entries',
    key='time_entry_id',
    columns=[
        {'name': 'time_entry_id', 'type': 'text'},
        {'name': 'work_date', 'type': 'date', 'required': true},
        {'name': 'customer_id', 'type': 'text', 'required': true},
        {'name': 'offering_id', 'type': 'text'},
        {'name': 'technician_id', 'type': 'text'},
        {'name': 'hours_actual', 'type': 'number', 'required': true,
         'non_negative': true},
        {'name': 'loaded_hourly_cost', 'type': 'number', 'required': true,
         'non_negative': true},
    ],
    amount='hours_actual * loaded_hourly_cost',
    references=[
        {'column': 'customer_id', 'model': 'base_landing__customers',
         'key': 'customer_id', 'reason': 'unknown_customer'},
        {'column': 'offering_id', 'model': 'base_landing__offerings',
         'key': 'offering_id', 'reason': 'unknown_offering'},
    ],
) }}
