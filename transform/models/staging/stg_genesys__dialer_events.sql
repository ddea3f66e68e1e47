{%- set src = source('genesys', 'dialer_events') %}
select
    "id" as event_id,
    "name" as event_name,
    {{ utc(src, 'timestamp') }} as occurred_at_utc,
    "level" as level,
    "category" as category,
    "correlationId" as correlation_id,
    {{ json_text('eventMessage', 'code') }} as message_code,
    {{ json_text('eventMessage', 'message') }} as message,
    {{ json_text('relatedEntity', 'id') }} as related_entity_id,
    {{ json_text('relatedEntity', 'name') }} as related_entity_name
from {{ src }}
