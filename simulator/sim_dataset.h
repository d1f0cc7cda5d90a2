/*  sim_dataset: the analytics facts the simulator serves, held in memory.

    sim_dataset_load reads DIR/ga4-facts.csv (the layout of the project's
    dataset generator, scripts/generate-dataset): one row per property, date,
    hour and combination of dimensions. Text columns are interned, so a row
    is a few ids and four integers, sorted by property, date and hour. The
    socialNetwork column is ignored because GA4 has no such dimension. The
    folder's YouTube files are loaded too (see sim_youtube_data).
    After loading, the dataset is read-only and safe to share across threads.
*/
#ifndef SIM_DATASET_H
#define SIM_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "sim_strings.h"
#include "sim_youtube_data.h"

//  Text columns of a GA4 row, as string ids in the dataset's pool.
typedef enum {
    SIM_GA4_HOST_NAME,
    SIM_GA4_PAGE_PATH,
    SIM_GA4_PAGE_TITLE,
    SIM_GA4_COUNTRY,
    SIM_GA4_SOURCE,
    SIM_GA4_MEDIUM,
    SIM_GA4_SOURCE_MEDIUM,     //  "source / medium", built while loading
    SIM_GA4_CHANNEL_GROUP,
    SIM_GA4_DEVICE,
    SIM_GA4_TEXT_COUNT
} sim_ga4_text;

//  Additive metrics of a GA4 row, in the dataset's units.
typedef enum {
    SIM_GA4_SCREEN_PAGE_VIEWS,
    SIM_GA4_TOTAL_USERS,
    SIM_GA4_SESSIONS,
    SIM_GA4_ENGAGEMENT_SECONDS,
    SIM_GA4_METRIC_COUNT
} sim_ga4_metric;

typedef struct {
    int32_t day;                            //  day number (sim_clock)
    uint16_t property;                      //  index into the property list
    uint8_t hour;                           //  0-23
    uint32_t text[SIM_GA4_TEXT_COUNT];      //  string ids
    int64_t metrics[SIM_GA4_METRIC_COUNT];
} sim_ga4_row;

typedef struct sim_dataset sim_dataset;

//  Loads the dataset folder dir. Returns the dataset, or NULL with a message
//  naming the file and line in error.
sim_dataset *sim_dataset_load(const char *dir, char *error, size_t error_size);

void sim_dataset_destroy(sim_dataset **self_p);

//  Returns the dataset's YouTube facts, channels and videos.
const sim_youtube_data *sim_dataset_youtube(const sim_dataset *self);

//  Returns the pool that the rows' string ids refer to.
const sim_strings *sim_dataset_strings(const sim_dataset *self);

//  Returns the index of a GA4 property id ("310000001"), or -1 when the
//  dataset has no rows for it.
int sim_dataset_ga4_property(const sim_dataset *self, const char *property_id);

//  Returns how many GA4 properties the dataset has; indexes run below it.
size_t sim_dataset_ga4_property_count(const sim_dataset *self);

size_t sim_dataset_ga4_row_count(const sim_dataset *self);

//  Returns the rows of one property whose day lies in [first_day, last_day],
//  in date and hour order, and sets *count. The dataset owns the rows.
const sim_ga4_row *sim_dataset_ga4_rows(const sim_dataset *self, int property,
                                        int32_t first_day, int32_t last_day, size_t *count);

#endif
