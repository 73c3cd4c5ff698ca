{{ validate_landing_rows(
    source_table='offerings',
    key='offering_id',
    columns=[
        {'name': 'offering_id', 'type': 'text'},
        {'name': 'offering_name', 'type': 'text'},
        {'name': 'offering_family', 'type': 'text'},
        {'name': 'revenue_type', 'type': 'text', 'required': true,
         'values': ['mrr', 'project_labor', 't_and_m', 'block_time',
                    'product_resale']},
        {'name': 'lifecycle', 'type': 'text', 'required': true,
         'values': ['current', 'legacy']},
        {'name': 'is_full_package_component', 'type': 'boolean',
         'required': true},
        {'name': 'list_price', 'type': 'number', 'non_negative': true},
    ],
) }}
