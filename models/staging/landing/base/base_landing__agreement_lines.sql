{{ validate_landing_rows(
    source_table='agreement_lines',
    key='agreement_line_id',
    columns=[
        {'name': 'agreement_line_id', 'type': 'text'},
        {'name': 'agreement_id', 'type': 'text', 'required': true},
        {'name': 'offering_id', 'type': 'text', 'required': true},
        {'name': 'quantity', 'type': 'number', 'required': true},
        {'name': 'unit_price', 'type': 'number', 'required': true},
        {'name': 'billing_cycle', 'type': 'text', 'required': true,
         'values': ['monthly', 'quarterly', 'annual']},
        {'name': 'effective_date', 'type': 'date', 'required': true},
        {'name': 'cancelled_date', 'type': 'date'},
    ],
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
