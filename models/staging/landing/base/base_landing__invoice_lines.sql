{{ validate_landing_rows(
    source_table='invoice_lines',
    key='invoice_line_id',
    amount='extended_price',
    references=[
        {'column': 'customer_id', 'model': 'base_landing__customers',
         'key': 'customer_id', 'reason': 'unknown_customer'},
        {'column': 'offering_id', 'model': 'base_landing__offerings',
         'key': 'offering_id', 'reason': 'unknown_offering'},
    ],
) }}
