{%- set src = source('genesys', 'campaign_status_history') %}
select
    "campaignId" as campaign_id,
    "kind" as kind,
    "state" as state,
    "campaignStatus" as campaign_status,
    "healthState" as health_state,
    "dialingMode" as dialing_mode,
    {{ utc(src, 'dateStart') }} as started_at_utc,
    {{ utc(src, 'dateEnd') }} as ended_at_utc,
    cast("isOpen" as boolean) as is_open
from {{ src }}
