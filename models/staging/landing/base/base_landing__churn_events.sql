{{ validate_landing_rows(
    source_table='churn_events',
    key='churn_event_id',
    columns=[
        {'name': 'churn_event_id', 'type': 'text'},
        {'name': 'customer_id', 'type': 'text', 'required': true},
        {'name': 'offering_id', 'type': 'text'},
        {'name': 'event_type', 'type': 'text', 'required': true,
         'values': ['full_churn', 'offering_cancel', 'downgrade']},
        {'name': 'notice_date', 'type': 'date', 'required': true},
        {'name': 'effective_date', 'type': 'date', 'required': true},
        {'name': 'reason_code', 'type': 'text'},
        {'name': 'initiated_by', 'type': 'text', 'required': true,
         'values': ['customer', 'provider']},
        {'name': 'was_flagged_at_risk', 'type': 'boolean'},
    ],
    references=[
        {'column': 'customer_id', 'model': 'base_landing__customers',
         'key': 'customer_id', 'reason': 'unknown_customer'},
        {'column': 'offering_id', 'model': 'base_landing__offerings',
         'key': 'offering_id', 'reason': 'unknown_offering'},
    ],
) }}
