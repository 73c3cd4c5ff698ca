{{ validate_landing_rows(
    source_table='agreements',
    key='agreement_id',
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
