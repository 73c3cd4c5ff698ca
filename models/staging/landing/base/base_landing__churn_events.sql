{{ validate_landing_rows(
    source_table='churn_events',
    key='churn_event_id',
    references=[
        {'column': 'customer_id', 'model': 'base_landing__customers',
         'key': 'customer_id', 'reason': 'unknown_customer'},
        {'column': 'offering_id', 'model': 'base_landing__offerings',
         'key': 'offering_id', 'reason': 'unknown_offering'},
    ],
) }}
