{%- set src = source('genesys', 'contact_lists') %}
select
    "id" as contact_list_id,
    "name" as contact_list_name,
    cast("size" as bigint) as size,
    {{ json_text('importStatus', 'importState') }} as import_state,
    {{ json_text('division', 'id') }} as division_id,
    {{ utc(src, 'dateModified') }} as modified_at_utc
from {{ src }}
