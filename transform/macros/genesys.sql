{# Schemas as named (`staging`, `marts`), not prefixed with the target's schema. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
  {{ custom_schema_name if custom_schema_name is not none else target.schema }}
{%- endmacro %}

{# A date-time column of a raw table as a UTC timestamp without zone. target-duckdb stores UTC `timestamp`;
   target-postgres `timestamp` in the session's zone (UTC per the README's URL), or `timestamptz` once
   scripts/postgres_timestamptz.sql ran: the column's type decides. #}
{% macro utc(relation, column) -%}
  {%- set found = namespace(zoned=false) -%}
  {%- if execute -%}
    {%- for col in adapter.get_columns_in_relation(relation) if col.name | lower == column | lower -%}
      {%- set found.zoned = 'with time zone' in col.data_type | lower or col.data_type | lower == 'timestamptz' -%}
    {%- endfor -%}
  {%- endif -%}
  {%- if found.zoned -%}
    ("{{ column }}" at time zone 'UTC')
  {%- else -%}
    cast("{{ column }}" as timestamp)
  {%- endif -%}
{%- endmacro %}

{# A UTC timestamp (without zone) as wall-clock time in `zone` (default: var time_zone). #}
{% macro to_local(expression, zone=none) -%}
  ((({{ expression }}) at time zone 'UTC') at time zone {{ zone if zone is not none else "'" ~ genesys_time_zone() ~ "'" }})
{%- endmacro %}

{# Does an array-of-strings column hold `value`? DuckDB: a JSON array; Postgres: text[]. #}
{% macro has_flag(column, value) -%}
  {%- if target.type == 'postgres' -%}
    coalesce('{{ value }}' = any("{{ column }}"), false)
  {%- else -%}
    coalesce(list_contains(cast("{{ column }}" as varchar[]), '{{ value }}'), false)
  {%- endif -%}
{%- endmacro %}

{% macro array_length(column) -%}
  {%- if target.type == 'postgres' -%}
    coalesce(cardinality("{{ column }}"), 0)
  {%- else -%}
    coalesce(len(cast("{{ column }}" as varchar[])), 0)
  {%- endif -%}
{%- endmacro %}

{# `->>` on a JSON object column (DuckDB JSON, Postgres jsonb). #}
{% macro json_text(column, key) -%}
  ("{{ column }}" ->> '{{ key }}')
{%- endmacro %}

{# The raw table exists (the stream was selected and loaded)? True while parsing, so refs resolve. #}
{% macro raw_table_exists(name) -%}
  {%- if not execute -%}{{ return(true) }}{%- endif -%}
  {%- set relation = adapter.get_relation(database=target.database, schema=genesys_raw_schema(), identifier=name) -%}
  {{ return(relation is not none) }}
{%- endmacro %}

{% macro genesys_time_zone() -%}
  {{ return(var('time_zone', env_var('GENESYS_TIME_ZONE', 'UTC'))) }}
{%- endmacro %}

{% macro genesys_raw_schema() -%}
  {{ return(var('raw_schema', env_var('GENESYS_RAW_SCHEMA', 'genesys'))) }}
{%- endmacro %}
