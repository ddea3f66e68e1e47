{%- set src = source('genesys', 'dnc_lists') %}
select
    "id" as dnc_list_id,
    "name" as dnc_list_name,
    "dncSourceType" as dnc_source_type,
    "contactMethod" as contact_method,
    cast("size" as bigint) as size,
    {{ json_text('importStatus', 'importState') }} as import_state,
    {{ utc(src, 'dateModified') }} as modified_at_utc
from {{ src }}
