{%- set src = source('genesys', 'campaigns') %}
select
    "id" as campaign_id,
    "name" as campaign_name,
    "campaignStatus" as campaign_status,
    "dialingMode" as dialing_mode,
    {{ json_text('contactList', 'id') }} as contact_list_id,
    {{ json_text('queue', 'id') }} as queue_id,
    {{ json_text('division', 'id') }} as division_id,
    {{ json_text('division', 'name') }} as division_name,
    cast("abandonRate" as double precision) / 100 as target_abandon_rate,
    cast("outboundLineCount" as integer) as outbound_line_count,
    cast("priority" as integer) as priority,
    {{ utc(src, 'dateCreated') }} as created_at_utc,
    {{ utc(src, 'dateModified') }} as modified_at_utc
from {{ src }}
