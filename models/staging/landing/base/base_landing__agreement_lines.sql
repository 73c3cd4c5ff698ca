{{ validate_landing_rows(
    source_table='agreement_lines',
    key='agreement_line_id',
    amount='quantity * unit_price',
    row_checks=[
        {'reason': 'end_before_start',
         'condition': 'cancelled_date < effective_date',
         'detail': "'cancelled_date is before effective_date'"},
    ],
    references=[
        {'column': 'agreement_id', 'model': 'base_landing__agreements',
         'key': 'agreement_id', 'reason': 'unknown_agreement'},
        {'column': 'offering_id', 'model': 'base_landing__offerings',
         'key': 'offering_id', 'reason': 'unknown_offering'},
    ],
) }}
