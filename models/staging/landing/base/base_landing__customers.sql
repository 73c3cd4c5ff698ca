{{ validate_landing_rows(
    source_table='customers',
    key='customer_id',
    columns=[
        {'name': 'customer_id', 'type': 'text'},
        {'name': 'customer_name', 'type': 'text'},
        {'name': 'industry', 'type': 'text'},
        {'name': 'employee_count', 'type': 'integer', 'non_negative': true},
        {'name': 'region', 'type': 'text'},
        {'name': 'account_manager', 'type': 'text'},
        {'name': 'created_date', 'type': 'date'},
        {'name': 'tcp_override', 'type': 'boolean'},
    ],
) }}
