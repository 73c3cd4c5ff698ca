{{ validate_landing_rows(
    source_table='agreements',
    key='agreement_id',
    columns=[
        {'name': 'agreement_id', 'type': 'text'},
        {'name': 'customer_id', 'type': 'text', 'required': true},
        {'name': 'agreement_type', 'type': 'text', 'required': true,
         'values': ['managed_services', 'block_time', 't_and_m', 'project']},
        {'name': 'start_date', 'type': 'date', 'required': true},
        {'name': 'end_date', 'type': 'date'},
        {'name': 'cancelled_date', 'type': 'date'},
    ],
    row_checks=[
        {'reason': 'end_before_start',
         'condition': 'end_date < start_date or cancelled_date < start_date',
         'detail': "'end_date or cancelled_date is before start_date'"},
    ],
    references=[
        {'column': 'customer_id', 'model': 'base_landing__customers',
         'key': 'customer_id', 'reason': 'unknown_customer'},
    ],
) }}
