/*  sd_mail: mail over SMTP with libcurl.

    The message is built here as RFC 5322 text: Date, Message-ID, From, To,
    Reply-To when given, Subject (RFC 2047 "=?UTF-8?B?...?=" encoded words
    when it is not plain ASCII) and MIME-Version. A message with only text
    is one UTF-8 text/plain body sent as 8bit with CRLF line ends. With HTML
    it is MIME (RFC 2046):

        multipart/mixed                     only with attachments
          multipart/alternative
            text/plain                      8bit
            multipart/related               only with inline parts
              text/html                     base64
              image/png ...                 base64, Content-ID, inline
          text/csv ...                      base64, attachment

    Header values that contain CR or LF are rejected, so a value taken from
    a config or a peer cannot add a header. Part file names, content types
    and Content-IDs are limited to a safe set of ASCII characters. Addresses
    must be plain ASCII ("ops@example.com"); internationalized addresses
    (SMTPUTF8) are not supported.
*/
#ifndef SD_MAIL_H
#define SD_MAIL_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  A MIME part given as bytes: an inline image of the HTML or an attachment.
typedef struct {
    const char *content_type;       //  "image/png", "text/csv; charset=utf-8"
    const char *filename;           //  NULL for none; [A-Za-z0-9._-] only
    const char *content_id;         //  inline parts: the id the HTML names as "cid:ID"
    const unsigned char *data;
    size_t size;
} sd_mail_part;

typedef struct {
    const char *from;              //  envelope sender and From address
    const char *const *recipients; //  envelope recipients, all listed in To
    size_t recipient_count;
    const char *reply_to; //  NULL for none
    const char *subject;  //  UTF-8
    const char *text;     //  UTF-8 body; LF or CRLF line ends
    const char *html;     //  UTF-8 HTML alternative of text, NULL for text only
    const sd_mail_part *inline_parts;   //  images the HTML shows; need html
    size_t inline_count;
    const sd_mail_part *attachments;
    size_t attachment_count;
} sd_mail_message;

typedef struct {
    const char *url;      //  "smtp://host:port" or "smtps://host:port"
    bool starttls;        //  require STARTTLS on an smtp:// URL
    const char *user;     //  NULL: no login
    const char *password; //  NULL: no login
    long timeout_ms;      //  whole transfer; 0 for 60 s
} sd_mail_server;

//  Returns true when address is a plain ASCII address "local@domain" with
//  nothing that could break a header or an SMTP command (no spaces,
//  controls, quotes, brackets, commas or semicolons).
bool sd_mail_address_valid(const char *address);

//  Builds the RFC 5322 text of message, dated now_ms (milliseconds since
//  the Unix epoch, shown in UTC). Returns a new string (caller frees), or
//  NULL with one line in error naming the invalid value.
char *sd_mail_format(const sd_mail_message *message, int64_t now_ms, char *error, size_t size);

//  Sends message through server, dated sd_now_ms(). Blocks until the
//  server accepted or refused it (at most server->timeout_ms). Returns 0,
//  or -1 with one line in error. sd_mail_transfer sends without blocking.
int sd_mail_send(const sd_mail_server *server, const sd_mail_message *message, char *error,
                 size_t size);

//  One message formatted and set up as a libcurl easy transfer, for
//  sd_mail_send and for transfers driven by a libcurl multi handle.
typedef struct sd_mail_upload sd_mail_upload;

//  Formats message (dated sd_now_ms()) and prepares its transfer through
//  server. Returns the upload, or NULL with one line in error.
sd_mail_upload *sd_mail_upload_new(const sd_mail_server *server, const sd_mail_message *message,
                                   char *error, size_t size);

//  Returns the easy handle of upload; its CURLOPT_PRIVATE is the upload.
//  The handle stays owned by the upload.
CURL *sd_mail_upload_handle(sd_mail_upload *upload);

//  Writes one line into error that explains why the transfer of upload ended
//  with rc, with libcurl's message and the last SMTP reply code.
void sd_mail_upload_describe(sd_mail_upload *upload, CURLcode rc, const char *url, char *error,
                             size_t size);

//  Frees upload and its easy handle (remove the handle from any multi
//  handle first) and sets *upload_p to NULL. Safe on NULL.
void sd_mail_upload_destroy(sd_mail_upload **upload_p);

//  Reads a password file that must be a regular file not readable by group
//  or others, and removes one trailing newline. Returns a new string (the
//  caller clears it with explicit_bzero and frees it), or NULL with one
//  line in error.
char *sd_mail_read_password(const char *path, char *error, size_t size);

#endif
