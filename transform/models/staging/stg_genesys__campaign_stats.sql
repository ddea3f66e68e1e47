{%- set src = source('genesys', 'campaign_stats') %}
select
    "campaignId" as campaign_id,
    {{ utc(src, 'snapshotAt') }} as snapshot_at_utc,
    "campaignName" as campaign_name,
    "campaignStatus" as campaign_status,
    "dialingMode" as dialing_mode,
    cast("contactAttempts" as bigint) as contact_attempts,
    cast("contactConnects" as bigint) as contact_connects,
    cast("connectRate" as double precision) as connect_rate,
    cast("idleAgents" as bigint) as idle_agents,
    cast("outstandingCalls" as bigint) as outstanding_calls,
    cast("scheduledCalls" as bigint) as scheduled_calls,
    cast("linesUtilization" as double precision) as lines_utilization,
    cast("progressPercentage" as double precision) as progress_percentage,
    cast("contactsCalled" as bigint) as contacts_called,
    cast("totalContacts" as bigint) as total_contacts
from {{ src }}
